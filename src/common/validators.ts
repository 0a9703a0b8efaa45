import { Injectable, PipeTransform } from '@nestjs/common';
import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { ValidationFailedError } from './errors';

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const NAME_RULE = 'must match ^[a-z0-9][a-z0-9-]{0,62}$';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A flat object of string values, with bounds on entries, keys and values. */
export function IsStringRecord(
  limits: { maxEntries: number; keyPattern: RegExp; maxValueLength: number },
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isStringRecord',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= limits.maxEntries &&
            entries.every(
              ([k, v]) =>
                limits.keyPattern.test(k) &&
                typeof v === 'string' &&
                v.length <= limits.maxValueLength,
            )
          );
        },
        defaultMessage(args: ValidationArguments): string {
          return `${args.property} must be an object of at most ${limits.maxEntries} string values (keys ${limits.keyPattern.source}, values up to ${limits.maxValueLength} characters)`;
        },
      },
    });
}

/** An argv: a non-empty array of strings, the first one non-empty. */
export function IsArgv(
  limits: { maxItems: number; maxItemLength: number },
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isArgv',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown): boolean {
          return isArgv(value, limits);
        },
        defaultMessage(args: ValidationArguments): string {
          return `${args.property} must be an argv array of 1..${limits.maxItems} strings (the first non-empty, each at most ${limits.maxItemLength} characters)`;
        },
      },
    });
}

export function isArgv(
  value: unknown,
  limits: { maxItems: number; maxItemLength: number },
): boolean {
  return (
    Array.isArray(value) &&
    value.length >= 1 &&
    value.length <= limits.maxItems &&
    value.every(
      (v) => typeof v === 'string' && v.length <= limits.maxItemLength && !v.includes('\0'),
    ) &&
    (value[0] as string).length > 0
  );
}

/** A list of argv arrays (template setup commands). */
export function IsArgvList(
  limits: { maxCommands: number; maxItems: number; maxItemLength: number },
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isArgvList',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown): boolean {
          return (
            Array.isArray(value) &&
            value.length <= limits.maxCommands &&
            value.every((argv) => isArgv(argv, limits))
          );
        },
        defaultMessage(args: ValidationArguments): string {
          return `${args.property} must be a list of at most ${limits.maxCommands} argv arrays`;
        },
      },
    });
}

/** Path parameter: a resource name. */
@Injectable()
export class NamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!NAME_PATTERN.test(value)) throw ValidationFailedError.field('name', NAME_RULE);
    return value;
  }
}

/** Path parameter: a UUID. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw ValidationFailedError.field('id', 'must be a UUID');
    return value.toLowerCase();
  }
}

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
