import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1796317855254 implements MigrationInterface {
  name = 'Initial1796317855254';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "containers" ("id" uuid NOT NULL, "name" text NOT NULL, "pool_id" uuid NOT NULL, "host_id" uuid NOT NULL, "template_id" uuid NOT NULL, "template_version" integer NOT NULL, "state" text NOT NULL, "ip" inet, "lease_id" uuid, "error" text, "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "ready_at" TIMESTAMP WITH TIME ZONE, "leased_at" TIMESTAMP WITH TIME ZONE, "recycling_at" TIMESTAMP WITH TIME ZONE, "retiring_at" TIMESTAMP WITH TIME ZONE, "failed_at" TIMESTAMP WITH TIME ZONE, "destroyed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_21cbac3e68f7b1cf53d39cda70c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ux_containers_host_ip_live" ON "containers" ("host_id", "ip") WHERE state <> 'destroyed' AND ip IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "ix_containers_lease" ON "containers" ("lease_id") `);
    await queryRunner.query(
      `CREATE INDEX "ix_containers_host_state" ON "containers" ("host_id", "state") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_containers_pool_state_ready" ON "containers" ("pool_id", "state", "ready_at") `,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_containers_name" ON "containers" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "events" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "type" text NOT NULL, "pool_id" uuid, "container_id" uuid, "lease_id" uuid, "host_id" uuid, "from_state" text, "to_state" text, "details" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_events_at" ON "events" ("at") `);
    await queryRunner.query(
      `CREATE INDEX "ix_events_container" ON "events" ("container_id", "id") `,
    );
    await queryRunner.query(`CREATE INDEX "ix_events_pool" ON "events" ("pool_id", "id") `);
    await queryRunner.query(
      `CREATE TABLE "hosts" ("id" uuid NOT NULL, "name" text NOT NULL, "driver" text NOT NULL, "resolved_driver" text, "address" text NOT NULL DEFAULT 'local', "max_containers" integer NOT NULL, "max_concurrent_provisions" integer NOT NULL, "subnet" cidr NOT NULL, "options" jsonb NOT NULL DEFAULT '{}', "state" text NOT NULL DEFAULT 'active', "health" text NOT NULL DEFAULT 'up', "last_error" text, "consecutive_failures" integer NOT NULL DEFAULT '0', "down_until" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c4bcf0826e0e2847faee4da1746" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_hosts_name" ON "hosts" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "idempotency_records" ("tenant_key" text NOT NULL, "key" text NOT NULL, "request_hash" text NOT NULL, "lease_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_b5c9ed1f0e54f61122f4669fe5f" PRIMARY KEY ("tenant_key", "key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_idempotency_records_expires" ON "idempotency_records" ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "lease_requests" ("id" uuid NOT NULL, "pool_id" uuid NOT NULL, "tenant_id" uuid, "tenant_key" text NOT NULL, "count" integer NOT NULL, "ttl_seconds" integer NOT NULL, "priority" integer NOT NULL, "labels" jsonb NOT NULL DEFAULT '{}', "idempotency_key" text, "request_hash" text, "state" text NOT NULL, "lease_id" uuid, "rejection" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "deadline" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_921cef9d6a384ddeaf02540ee91" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ux_lease_requests_pending_key" ON "lease_requests" ("tenant_key", "idempotency_key") WHERE state = 'pending' AND idempotency_key IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_lease_requests_queue" ON "lease_requests" ("pool_id", "state", "priority", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "leases" ("id" uuid NOT NULL, "pool_id" uuid NOT NULL, "tenant_id" uuid, "state" text NOT NULL, "container_ids" uuid array NOT NULL, "labels" jsonb NOT NULL DEFAULT '{}', "waited_ms" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "released_at" TIMESTAMP WITH TIME ZONE, "ended_at" TIMESTAMP WITH TIME ZONE, "end_reason" text, CONSTRAINT "PK_2668e338ab2d27079170ea55ea2" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_leases_state_expires" ON "leases" ("state", "expires_at") `,
    );
    await queryRunner.query(`CREATE INDEX "ix_leases_created" ON "leases" ("created_at", "id") `);
    await queryRunner.query(
      `CREATE INDEX "ix_leases_tenant_created" ON "leases" ("tenant_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "pools" ("id" uuid NOT NULL, "name" text NOT NULL, "template_id" uuid NOT NULL, "resources" jsonb NOT NULL, "min_ready" integer NOT NULL, "max_ready" integer NOT NULL, "max_total" integer NOT NULL, "default_lease_seconds" integer NOT NULL, "max_lease_seconds" integer NOT NULL, "max_idle_seconds" integer NOT NULL, "scale_down_delay_seconds" integer NOT NULL, "recycle" text NOT NULL, "schedules" jsonb NOT NULL DEFAULT '[]', "predictive" jsonb, "state" text NOT NULL DEFAULT 'active', "excess_since" TIMESTAMP WITH TIME ZONE, "last_target" integer NOT NULL DEFAULT '0', "last_target_reason" text NOT NULL DEFAULT 'minReady', "deleted_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6708c86fc389259de3ee43230ee" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ux_pools_name_live" ON "pools" ("name") WHERE deleted_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "template_builds" ("id" uuid NOT NULL, "template_id" uuid NOT NULL, "version" integer NOT NULL, "host_id" uuid NOT NULL, "state" text NOT NULL DEFAULT 'building', "ref" text, "error" text, "built_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6cbd61e6f12d7fcf9e2b2c5015d" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ux_template_builds_version_host" ON "template_builds" ("template_id", "version", "host_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "templates" ("id" uuid NOT NULL, "name" text NOT NULL, "driver" text NOT NULL, "source" jsonb NOT NULL DEFAULT '{}', "setup" jsonb NOT NULL DEFAULT '[]', "version" integer NOT NULL DEFAULT '1', "state" text NOT NULL DEFAULT 'building', "built_at" TIMESTAMP WITH TIME ZONE, "error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_515948649ce0bbbe391de702ae5" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_templates_name" ON "templates" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "tenants" ("id" uuid NOT NULL, "name" text NOT NULL, "token_sha256" text NOT NULL, "max_concurrent_containers" integer NOT NULL, "leased_containers" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_53be67a04681c66b87ee27c9321" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ux_tenants_token_sha256" ON "tenants" ("token_sha256") `,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_tenants_name" ON "tenants" ("name") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ux_tenants_name"`);
    await queryRunner.query(`DROP INDEX "public"."ux_tenants_token_sha256"`);
    await queryRunner.query(`DROP TABLE "tenants"`);
    await queryRunner.query(`DROP INDEX "public"."ux_templates_name"`);
    await queryRunner.query(`DROP TABLE "templates"`);
    await queryRunner.query(`DROP INDEX "public"."ux_template_builds_version_host"`);
    await queryRunner.query(`DROP TABLE "template_builds"`);
    await queryRunner.query(`DROP INDEX "public"."ux_pools_name_live"`);
    await queryRunner.query(`DROP TABLE "pools"`);
    await queryRunner.query(`DROP INDEX "public"."ix_leases_tenant_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_leases_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_leases_state_expires"`);
    await queryRunner.query(`DROP TABLE "leases"`);
    await queryRunner.query(`DROP INDEX "public"."ix_lease_requests_queue"`);
    await queryRunner.query(`DROP INDEX "public"."ux_lease_requests_pending_key"`);
    await queryRunner.query(`DROP TABLE "lease_requests"`);
    await queryRunner.query(`DROP INDEX "public"."ix_idempotency_records_expires"`);
    await queryRunner.query(`DROP TABLE "idempotency_records"`);
    await queryRunner.query(`DROP INDEX "public"."ux_hosts_name"`);
    await queryRunner.query(`DROP TABLE "hosts"`);
    await queryRunner.query(`DROP INDEX "public"."ix_events_pool"`);
    await queryRunner.query(`DROP INDEX "public"."ix_events_container"`);
    await queryRunner.query(`DROP INDEX "public"."ix_events_at"`);
    await queryRunner.query(`DROP TABLE "events"`);
    await queryRunner.query(`DROP INDEX "public"."ux_containers_name"`);
    await queryRunner.query(`DROP INDEX "public"."ix_containers_pool_state_ready"`);
    await queryRunner.query(`DROP INDEX "public"."ix_containers_host_state"`);
    await queryRunner.query(`DROP INDEX "public"."ix_containers_lease"`);
    await queryRunner.query(`DROP INDEX "public"."ux_containers_host_ip_live"`);
    await queryRunner.query(`DROP TABLE "containers"`);
  }
}
