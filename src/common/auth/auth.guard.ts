import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { TenantEntity } from '../../tenants/tenant.entity';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { Access, ACCESS_KEY } from './auth.decorators';
import type { Principal } from './principal';
import { matchesAnyAdminToken, secretsEqual, sha256Hex } from './tokens';

/**
 * Every route declares its access (@Public, @AdminOnly, @TenantOrAdmin); a route that
 * declares nothing is admin-only, so forgetting the decorator fails closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly db: DataSource,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access =
      this.reflector.getAllAndOverride<Access>(ACCESS_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'admin';
    if (access === 'public') return true;

    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedError('missing bearer token');

    if (matchesAnyAdminToken(token, this.config.adminTokens())) {
      request.principal = { kind: 'admin' };
      return true;
    }
    // Looked up by the hash (an index probe that learns nothing about the secret), then
    // compared in constant time.
    const hash = sha256Hex(token);
    const tenant = await this.db
      .getRepository(TenantEntity)
      .findOne({ where: { tokenSha256: hash }, select: ['id', 'name', 'tokenSha256'] });
    if (!tenant || !secretsEqual(tenant.tokenSha256, hash)) {
      throw new UnauthorizedError('invalid token');
    }
    if (access === 'admin') throw new ForbiddenError('this route needs an admin token');
    request.principal = { kind: 'tenant', tenantId: tenant.id, tenantName: tenant.name };
    return true;
  }
}
