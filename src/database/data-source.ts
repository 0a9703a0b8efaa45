import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnv } from '../config/env';
import { databaseOptions } from './database-options';

/** The TypeORM CLI's entry (migration:generate/run/revert); the app builds its own. */
export default new DataSource(databaseOptions(loadEnv()));
