import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per function; Powertools reads POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_LOG_LEVEL, and the middy middleware adds the request id to every line. */
export const createLogger = (serviceName: string): Logger => new Logger({ serviceName });
