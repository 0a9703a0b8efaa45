import { ContainerEntity } from '../containers/container.entity';
import { EventEntity } from '../events/event.entity';
import { HostEntity } from '../hosts/host.entity';
import { IdempotencyRecordEntity } from '../leases/idempotency-record.entity';
import { LeaseRequestEntity } from '../leases/lease-request.entity';
import { LeaseEntity } from '../leases/lease.entity';
import { PoolEntity } from '../pools/pool.entity';
import { TemplateBuildEntity } from '../templates/template-build.entity';
import { TemplateEntity } from '../templates/template.entity';
import { TenantEntity } from '../tenants/tenant.entity';

export const ENTITIES = [
  TemplateEntity,
  TemplateBuildEntity,
  PoolEntity,
  HostEntity,
  TenantEntity,
  ContainerEntity,
  LeaseEntity,
  LeaseRequestEntity,
  IdempotencyRecordEntity,
  EventEntity,
];
