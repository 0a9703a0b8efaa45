import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from './principal';

export const ACCESS_KEY = 'warmpool:access';
export type Access = 'public' | 'admin' | 'tenant';

/** No token needed (health, metrics). */
export const Public = (): ReturnType<typeof SetMetadata> => SetMetadata(ACCESS_KEY, 'public');
/** Admin tokens only; a tenant token gets 403. */
export const AdminOnly = (): ReturnType<typeof SetMetadata> => SetMetadata(ACCESS_KEY, 'admin');
/** Tenant or admin tokens (the default for /v1 routes). */
export const TenantOrAdmin = (): ReturnType<typeof SetMetadata> =>
  SetMetadata(ACCESS_KEY, 'tenant');

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<{ principal: Principal }>().principal,
);
