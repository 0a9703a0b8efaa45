import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, TenantOrAdmin } from '../common/auth/auth.decorators';
import type { Principal } from '../common/auth/principal';
import { ValidationFailedError } from '../common/errors';
import { toErrorBody } from '../common/http-error.filter';
import { Page } from '../common/pagination';
import { UuidPipe } from '../common/validators';
import {
  CreateLeaseDto,
  ExecDto,
  ExecResultView,
  LeaseView,
  ListLeasesQuery,
  RenewLeaseDto,
} from './dto/lease.dto';
import { LeaseService } from './lease.service';

const NDJSON = 'application/x-ndjson';

@ApiTags('leases')
@ApiBearerAuth()
@TenantOrAdmin()
@Controller('v1/leases')
export class LeasesController {
  constructor(private readonly leases: LeaseService) {}

  @Post()
  @ApiOperation({
    summary: 'Lease warm containers (all-or-nothing, optionally waiting for capacity)',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1..128 characters' })
  @ApiResponse({ status: 201, type: LeaseView })
  @ApiResponse({ status: 200, type: LeaseView, description: 'an Idempotency-Key replay' })
  @ApiResponse({ status: 503, description: 'pool_exhausted (with Retry-After)' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateLeaseDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LeaseView> {
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length < 1 || idempotencyKey.length > 128)
    ) {
      throw ValidationFailedError.field('Idempotency-Key', 'must be 1..128 characters');
    }
    // A client that goes away while waiting must not be left holding a lease.
    const abort = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableEnded) abort.abort();
    };
    reply.raw.once('close', onClose);
    try {
      const { lease, created } = await this.leases.create(
        principal,
        dto,
        idempotencyKey,
        abort.signal,
      );
      void reply.status(created ? 201 : 200);
      return lease;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  @Get()
  @ApiOperation({ summary: "The caller's leases, newest first (admin: all)" })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListLeasesQuery,
  ): Promise<Page<LeaseView>> {
    return this.leases.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: LeaseView })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<LeaseView> {
    return this.leases.get(principal, id);
  }

  @Post(':id/renew')
  @HttpCode(200)
  @ApiOkResponse({ type: LeaseView })
  renew(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: RenewLeaseDto,
  ): Promise<LeaseView> {
    return this.leases.renew(principal, id, dto.ttlSeconds);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Release (idempotent); the containers are recycled afterwards' })
  @ApiOkResponse({ type: LeaseView })
  release(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<LeaseView> {
    return this.leases.release(principal, id);
  }

  @Post(':id/exec')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Run an argv in a leased container; NDJSON streaming with Accept: application/x-ndjson',
  })
  @ApiProduces('application/json', NDJSON)
  @ApiOkResponse({ type: ExecResultView })
  async exec(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: ExecDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ExecResultView | void> {
    const run = await this.leases.prepareExec(principal, id, dto);
    if (!(request.headers.accept ?? '').includes(NDJSON)) return run();

    // Streaming: from here on errors travel as a last NDJSON line, the status is already sent.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': NDJSON,
      'cache-control': 'no-store',
      'x-request-id': String(request.id),
    });
    const line = (value: unknown): void => {
      if (!raw.writableEnded) raw.write(`${JSON.stringify(value)}\n`);
    };
    try {
      const result = await run((stream, data) => line({ stream, data }));
      line({
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        timedOut: result.timedOut,
        truncated: result.truncated,
      });
    } catch (err) {
      line({ error: toErrorBody(err) });
    } finally {
      raw.end();
    }
  }
}
