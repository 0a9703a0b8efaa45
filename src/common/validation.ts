import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationFailedError } from './errors';

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own: FieldProblem[] = error.constraints
      ? [{ field, problems: Object.values(error.constraints) }]
      : [];
    return own.concat(flattenValidationErrors(error.children ?? [], field));
  });
}

export function validationFailed(errors: ValidationError[]): ValidationFailedError {
  const fields = flattenValidationErrors(errors);
  const summary = fields.map((f) => `${f.field}: ${f.problems.join(', ')}`).join('; ');
  return new ValidationFailedError(summary || 'invalid request', fields);
}

/** Strict: unknown fields are rejected, payloads become DTO instances. */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: validationFailed,
  });
}
