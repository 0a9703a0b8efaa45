import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ConflictError,
  DomainError,
  ErrorCode,
  ForbiddenError,
  IdempotencyMismatchError,
  NotFoundError,
  PoolExhaustedError,
  QuotaExceededError,
  UnauthorizedError,
  UnavailableError,
  ValidationFailedError,
} from '../../src/common/errors';
import { toErrorBody } from '../../src/common/http-error.filter';

// API.md "Error shape".
const API_STATUS: Record<ErrorCode, number> = {
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

describe('toErrorBody: domain errors', () => {
  it.each<[string, DomainError, number, ErrorCode]>([
    [
      'ValidationFailedError',
      ValidationFailedError.field('count', 'must be ≤ 32'),
      400,
      'validation_failed',
    ],
    ['UnauthorizedError', new UnauthorizedError('no token'), 401, 'unauthorized'],
    ['ForbiddenError', new ForbiddenError('admin only'), 403, 'forbidden'],
    ['NotFoundError', NotFoundError.of('pool', 'nope'), 404, 'not_found'],
    ['ConflictError', new ConflictError('lease is not active'), 409, 'conflict'],
    [
      'IdempotencyMismatchError',
      new IdempotencyMismatchError('different body'),
      422,
      'idempotency_mismatch',
    ],
    ['QuotaExceededError', new QuotaExceededError('over quota'), 429, 'quota_exceeded'],
    ['PoolExhaustedError', new PoolExhaustedError('nothing ready', 7), 503, 'pool_exhausted'],
    ['UnavailableError', new UnavailableError('shutting down'), 503, 'unavailable'],
  ])('%s → %i %s', (_name, error, statusCode, code) => {
    const body = toErrorBody(error);
    expect(body).toEqual({ statusCode, code, message: error.message, details: error.details });
    expect(API_STATUS[body.code]).toBe(body.statusCode);
  });

  it('keeps the field list of a validation error', () => {
    const body = toErrorBody(
      new ValidationFailedError('two problems', [
        { field: 'pool', problems: ['must match'] },
        { field: 'resources.memoryMb', problems: ['too small'] },
      ]),
    );
    expect(body.details).toEqual({
      fields: [
        { field: 'pool', problems: ['must match'] },
        { field: 'resources.memoryMb', problems: ['too small'] },
      ],
    });
  });

  it('keeps details given to a domain error', () => {
    const body = toErrorBody(new PoolExhaustedError('nothing ready', 3, { pool: 'default' }));
    expect(body.details).toEqual({ pool: 'default' });
  });

  it('names each error class after itself', () => {
    expect(new QuotaExceededError('x').name).toBe('QuotaExceededError');
    expect(new PoolExhaustedError('x', 1).retryAfterSeconds).toBe(1);
  });

  it('NotFoundError.of quotes the name', () => {
    expect(NotFoundError.of('pool', 'ci').message).toBe('pool "ci" not found');
  });
});

describe('toErrorBody: Nest HttpException', () => {
  it('maps a 404 (no route) to not_found', () => {
    const body = toErrorBody(new NotFoundException('Cannot GET /v1/nope'));
    expect(body).toMatchObject({ statusCode: 404, code: 'not_found' });
    expect(body.details).toEqual({});
  });

  it.each<[HttpException, number, ErrorCode]>([
    [new BadRequestException('bad'), 400, 'validation_failed'],
    [new UnauthorizedException(), 401, 'unauthorized'],
    [new ForbiddenException(), 403, 'forbidden'],
    [new HttpException('conflict', 409), 409, 'conflict'],
    [new HttpException('slow down', 429), 429, 'quota_exceeded'],
    [new PayloadTooLargeException(), 413, 'validation_failed'],
  ])('maps %p to %i %s', (exception, statusCode, code) => {
    expect(toErrorBody(exception)).toMatchObject({ statusCode, code });
  });

  it('hides the message of a 5xx HttpException', () => {
    const body = toErrorBody(new InternalServerErrorException('SELECT secret FROM x failed'));
    expect(body).toEqual({
      statusCode: 500,
      code: 'internal',
      message: 'internal error',
      details: {},
    });
  });

  it('answers a 503 HttpException with 503 unavailable (status and code agree)', () => {
    const body = toErrorBody(new ServiceUnavailableException('draining'));
    expect(body.code).toBe('unavailable');
    expect(body.statusCode).toBe(503);
  });

  it.each([500, 501, 502, 504])('answers %i with a status that matches its code', (status) => {
    const body = toErrorBody(new HttpException('upstream said no', status));
    expect(body.statusCode).toBe(API_STATUS[body.code]);
  });
});

describe('toErrorBody: Fastify errors', () => {
  const fastifyError = (statusCode: number, code: string, message: string): Error =>
    Object.assign(new Error(message), { statusCode, code });

  it.each([
    [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', "Unsupported Media Type: 'text/plain'"],
    [413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large'],
    [
      400,
      'FST_ERR_CTP_EMPTY_JSON_BODY',
      "Body cannot be empty when content-type is set to 'application/json'",
    ],
    [400, 'FST_ERR_CTP_INVALID_JSON_BODY', 'Unexpected token } in JSON at position 10'],
  ])('maps a %i (%s) to validation_failed with that status', (statusCode, code, message) => {
    const body = toErrorBody(fastifyError(statusCode, code, message));
    expect(body.statusCode).toBe(statusCode);
    expect(body.statusCode).toBeGreaterThanOrEqual(400);
    expect(body.statusCode).toBeLessThan(500);
    expect(body.code).toBe('validation_failed');
    expect(body.message).toBe(message);
    expect(body.details).toEqual({});
  });

  it('does not trust a 5xx statusCode on a plain error', () => {
    const body = toErrorBody(
      Object.assign(new Error('kaboom at /srv/app.js:1'), { statusCode: 500 }),
    );
    expect(body).toEqual({
      statusCode: 500,
      code: 'internal',
      message: 'internal error',
      details: {},
    });
  });
});

describe('toErrorBody: database unavailable', () => {
  it.each([
    [
      'ECONNREFUSED',
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['57P01 admin_shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    [
      '57P03 cannot_connect_now',
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ],
    ['08006 connection_failure', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['Connection terminated', new Error('Connection terminated unexpectedly')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s → 503 unavailable without the driver message', (_name, error) => {
    const body = toErrorBody(error);
    expect(body).toEqual({
      statusCode: 503,
      code: 'unavailable',
      message: 'database unavailable',
      details: {},
    });
    expect(body.message).not.toContain('10.0.0.5');
  });
});

describe('toErrorBody: anything else', () => {
  class QueryFailedLike extends Error {
    code = '42P01';
    query = 'SELECT * FROM tenants WHERE token_sha256 = $1';
  }

  it.each<[string, unknown]>([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a SQL error', new QueryFailedLike('relation "tenants" does not exist')],
    ['an Error with a stack', new Error('secret path /home/app/src/lease.service.ts:42')],
    ['a thrown string', 'something went wrong'],
    ['a thrown number', 42],
    ['a thrown plain object', { oops: true }],
  ])('%s → 500 internal, leaking nothing', (_name, exception) => {
    const body = toErrorBody(exception);
    expect(body).toEqual({
      statusCode: 500,
      code: 'internal',
      message: 'internal error',
      details: {},
    });
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/tenants|lease\.service|Cannot read|something went wrong|at /);
  });

  // `Promise.reject()` and `throw undefined` reach the global filter as they are.
  it.each([[null], [undefined]])(
    '%p → 500 internal (the filter itself never throws)',
    (exception) => {
      expect(() => toErrorBody(exception)).not.toThrow();
      expect(toErrorBody(exception)).toMatchObject({ statusCode: 500, code: 'internal' });
    },
  );
});
