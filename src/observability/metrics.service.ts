import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type LeaseOutcome = 'leased' | 'exhausted' | 'quota' | 'error';

/**
 * The Prometheus series of DESIGN.md "Observability". One registry per app instance
 * (not prom-client's global one), so several apps in one test process do not collide.
 * Gauges that describe the database (containers per state, targets) are filled at scrape
 * time by MetricsController, so every replica reports the same truth.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly containers = new Gauge({
    name: 'warmpool_containers',
    help: 'Containers per pool and state (destroyed excluded)',
    labelNames: ['pool', 'state'],
    registers: [this.registry],
  });

  readonly poolTarget = new Gauge({
    name: 'warmpool_pool_target',
    help: 'Ready target of the last reconcile pass',
    labelNames: ['pool'],
    registers: [this.registry],
  });

  readonly leaseRequests = new Counter({
    name: 'warmpool_lease_requests_total',
    help: 'Lease requests by outcome',
    labelNames: ['pool', 'outcome'],
    registers: [this.registry],
  });

  readonly leaseWait = new Histogram({
    name: 'warmpool_lease_wait_seconds',
    help: 'Time from lease request to lease (warm and cold)',
    labelNames: ['pool'],
    buckets: [
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
    ],
    registers: [this.registry],
  });

  readonly provision = new Histogram({
    name: 'warmpool_provision_seconds',
    help: 'Clone + start + health check',
    labelNames: ['pool', 'host'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly recycle = new Histogram({
    name: 'warmpool_recycle_seconds',
    help: 'Recycling a released container (destroy or reset)',
    labelNames: ['pool', 'host', 'policy'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly driverErrors = new Counter({
    name: 'warmpool_driver_errors_total',
    help: 'Failed driver operations',
    labelNames: ['host', 'op'],
    registers: [this.registry],
  });

  readonly reconcileDuration = new Histogram({
    name: 'warmpool_reconcile_duration_seconds',
    help: 'Duration of a reconcile pass',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'warmpool_leader',
    help: '1 while this replica runs the reconciler',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'warmpool_process_' });
    this.leader.set(0);
  }

  countLease(pool: string, outcome: LeaseOutcome): void {
    this.leaseRequests.inc({ pool, outcome });
  }
}
