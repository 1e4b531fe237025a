/**
 * The CLI's failures, each with the exit status it ends the process with and a one-line
 * message meant for the user (the only thing printed: never a stack trace).
 */

export class CliError extends Error {
  readonly exitCode: number;
  /** Whether the usage line follows the message (bad arguments). */
  readonly showUsage: boolean;
  constructor(
    message: string,
    {
      exitCode = 2,
      showUsage = false,
      cause,
    }: { exitCode?: number; showUsage?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.showUsage = showUsage;
  }
}

/** Bad arguments: exit 2, followed by the usage line. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, { showUsage: true });
  }
}

/** The service refused, failed or could not be reached: exit 2 with what it said. */
export class ServiceError extends CliError {
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, details: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
  }
}

/** A set no route takes: more images than a large batch declares, or one image too large. */
export class TooLargeError extends CliError {}
