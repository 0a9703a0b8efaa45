import { ColumnOptions } from 'typeorm';

/** timestamptz everywhere: instants, never wall-clock times. */
export const timestamp = (options: ColumnOptions = {}): ColumnOptions => ({
  type: 'timestamptz',
  ...options,
});

export const nullableTimestamp: ColumnOptions = { type: 'timestamptz', nullable: true };
