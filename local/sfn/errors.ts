/** An error the Step Functions API answers with: `__type` in the JSON body, HTTP 400. */
export class SfnApiError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
    this.type = type;
  }
}

export const executionDoesNotExist = (arn: string) =>
  new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);

export const stateMachineDoesNotExist = (arn: string) =>
  new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);

export const invalidArn = (arn: string, why: string) =>
  new SfnApiError('InvalidArn', `Invalid Arn: '${why}: ${arn}'`);

export const validation = (message: string) =>
  new SfnApiError('ValidationException', `1 validation error detected: ${message}`);
