import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, PoolExhaustedError } from './errors';

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_mismatch: 422,
  quota_exceeded: 429,
  pool_exhausted: 503,
  unavailable: 503,
  internal: 500,
};

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'quota_exceeded';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'validation_failed';
  return 'internal';
}

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  requestId?: string;
}

/** Database errors that mean "the database is not there" rather than a bug. */
function isDatabaseUnavailable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: string }).code;
  return (
    code === 'ECONNREFUSED' ||
    code === '57P01' || // admin_shutdown
    code === '57P03' || // cannot_connect_now
    code === '08006' ||
    code === '08001' ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(
      String((err as Error)?.message),
    )
  );
}

export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    return {
      statusCode: STATUS[exception.code],
      code: exception.code,
      message: exception.message,
      details: exception.details,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = codeForStatus(status);
    const message =
      status === 404 ? 'no such route' : status >= 500 ? 'internal error' : exception.message;
    const statusCode = status === 503 ? 503 : status >= 500 ? 500 : status;
    return { statusCode, code, message, details: {} };
  }
  // Fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx statusCode.
  const status = (exception as { statusCode?: number } | null | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      statusCode: status,
      code: codeForStatus(status),
      message: String((exception as Error).message ?? 'bad request'),
      details: {},
    };
  }
  if (isDatabaseUnavailable(exception)) {
    return { statusCode: 503, code: 'unavailable', message: 'database unavailable', details: {} };
  }
  return { statusCode: 500, code: 'internal', message: 'internal error', details: {} };
}

/** The one place errors become HTTP: API.md's error shape for every 4xx/5xx. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const body = toErrorBody(exception);
    body.requestId = String(request.id);
    if (body.statusCode >= 500 && body.code !== 'pool_exhausted') {
      this.logger.error({ err: exception, requestId: request.id }, 'request failed');
    }
    if (exception instanceof PoolExhaustedError) {
      void reply.header('Retry-After', String(exception.retryAfterSeconds));
    }
    void reply.status(body.statusCode).send(body);
  }
}
