/**
 * Errors of the AWS protocol, in AWS's shape: `{ "__type": "StateMachineDoesNotExist",
 * "message": "..." }` with the same name in the `x-amzn-errortype` header. The SDK reads the name
 * and throws an exception class of that name.
 */
import { StepwiseError } from '../../core/errors.js';
import { AslDefinitionError } from '../validate.js';

export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Maps anything an operation threw to an AwsError. */
export function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof AslDefinitionError) return new AwsError('InvalidDefinition', `Invalid State Machine Definition: ${error.message}`);
  if (error instanceof StepwiseError) {
    switch (error.code) {
      case 'INVALID_DEFINITION': return new AwsError('InvalidDefinition', `Invalid State Machine Definition: ${error.message}`);
      case 'EXECUTION_NOT_FOUND': return new AwsError('ExecutionDoesNotExist', error.message);
      case 'EXECUTION_CONFLICT': return new AwsError('ExecutionAlreadyExists', error.message);
      case 'WORKFLOW_NOT_FOUND': return new AwsError('StateMachineDoesNotExist', error.message);
      case 'INPUT_TOO_DEEP':
      case 'VALIDATION_FAILED': return new AwsError('InvalidExecutionInput', error.message);
      case 'STORE_UNAVAILABLE':
      case 'ENGINE_STOPPING': return new AwsError('ServiceUnavailable', error.message, 503);
      default: break;
    }
  }
  return new AwsError('InternalFailure', 'an internal error occurred; the server log has the details', 500);
}
