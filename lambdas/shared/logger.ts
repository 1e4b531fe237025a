import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * Powertools' own keys less the ones that are the same on every line of a function's log
 * group: its name and ARN (the log group names the function), its memory size (the
 * platform's REPORT line gives it) and the sampling rate while it is 0 (no sampling: the
 * stack sets none). Each line then costs ≈ 160 B less, the ingest's two lines per request and
 * the analyzer's one per chunk alike. What tells lines apart stays: level, message, time,
 * service, cold start, request id, X-Ray trace and tenant. The rest is Powertools' default
 * formatter (https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/, "Custom log
 * formatter").
 */
class PerLineFormatter extends LogFormatter {
  public formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const { lambdaContext } = attributes;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: lambdaContext?.coldStart,
        function_request_id: lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue || undefined,
        xray_trace_id: attributes.xRayTraceId,
        tenant_id: lambdaContext?.tenantId,
      },
    }).addAttributes(additional);
  }
}

/** One structured JSON logger per function; Powertools reads POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_LOG_LEVEL, and the middy middleware adds the request id to every line. */
export const createLogger = (serviceName: string): Logger =>
  new Logger({ serviceName, logFormatter: new PerLineFormatter() });
