/**
 * Domain errors: plain classes with a stable machine-readable code and no HTTP.
 * The one global exception filter maps codes to statuses (common/http-error.filter.ts).
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'idempotency_mismatch'
  | 'quota_exceeded'
  | 'pool_exhausted'
  | 'unavailable'
  | 'internal';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;

  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldProblem {
  field: string;
  problems: string[];
}

export class ValidationFailedError extends DomainError {
  readonly code = 'validation_failed';

  constructor(message: string, fields: FieldProblem[]) {
    super(message, { fields });
  }

  static field(field: string, problem: string): ValidationFailedError {
    return new ValidationFailedError(`${field}: ${problem}`, [{ field, problems: [problem] }]);
  }
}

export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';

  static of(kind: string, name: string): NotFoundError {
    return new NotFoundError(`${kind} ${JSON.stringify(name)} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

export class IdempotencyMismatchError extends DomainError {
  readonly code = 'idempotency_mismatch';
}

export class QuotaExceededError extends DomainError {
  readonly code = 'quota_exceeded';
}

export class PoolExhaustedError extends DomainError {
  readonly code = 'pool_exhausted';

  constructor(
    message: string,
    /** Seconds after which a retry has a fair chance: the pool's recent replenish time. */
    readonly retryAfterSeconds: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}

export class UnavailableError extends DomainError {
  readonly code = 'unavailable';
}
