import type { Context } from 'aws-lambda';

type Built<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * The deployed handler: built on the first invocation (the cold start), so that importing a
 * handler module reads no environment and makes no client. A build that failed is not kept:
 * the next invocation tries again, as a new Lambda environment would.
 */
export const onFirstInvocation = <E, R>(build: () => Promise<Built<E, R>>) => {
  let built: Promise<Built<E, R>> | undefined;
  return async (event: E, context: Context): Promise<R> => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(event, context);
  };
};
