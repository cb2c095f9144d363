import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe, applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, IsUUID, Length, ValidateBy, ValidationOptions } from 'class-validator';
import { isBlank } from '../newsroom/typography';
import { FieldError, ProblemException } from './problem';

/**
 * PostgreSQL cannot store NUL in text or jsonb, and a lone UTF-16 surrogate is not Unicode text:
 * refused up front so that nothing reaches the log that a read model could not hold.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL can store in `text` and `jsonb`: no NUL, no unpaired UTF-16 surrogate. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

export function IsStorableText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || isStorableText(value),
        defaultMessage: (args) => `${args?.property} must not contain NUL characters or unpaired surrogates`,
      },
    },
    options,
  );
}

export function IsNotBlank(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNotBlank',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !isBlank(value),
        defaultMessage: (args) => `${args?.property} must not be blank`,
      },
    },
    options,
  );
}

/** A required string of `min..max` characters (UTF-16 code units, as JavaScript counts). */
export function Text(min: number, max: number, description?: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, minLength: min, maxLength: max, description }),
    IsString(),
    Length(min, max),
    IsStorableText(),
    ...(min > 0 ? [IsNotBlank()] : []),
  );
}

/** An optional string of at most `max` characters; `null` is taken as absent. */
export function OptionalText(max: number, description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: String, maxLength: max, description, nullable: true }),
    IsOptional(),
    IsString(),
    Length(0, max),
    IsStorableText(),
  );
}

/** A UUID, lower-cased so that one article never has two stream names. */
export function Uuid(options: { optional?: boolean; description?: string } = {}): PropertyDecorator {
  return applyDecorators(
    options.optional ? ApiPropertyOptional({ format: 'uuid', description: options.description }) : ApiProperty({ format: 'uuid', description: options.description }),
    ...(options.optional ? [IsOptional()] : []),
    Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value)),
    IsUUID('all'),
  );
}

// The constraint that says most about a value, when several fail at once ("must be a string" before "must be 1..300 long").
const FIRST_SAID = ['whitelistValidation', 'isString', 'isArray', 'isIn', 'isUuid', 'isUrl', 'nestedValidation', 'isNotBlank', 'isStorableText'];

/** One message a field: what is wrong with it first, "is required" when it is missing. */
function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    const names = Object.keys(constraints);
    let own: FieldError[] = [];
    if (names.length > 0) {
      const first = FIRST_SAID.find((name) => name in constraints) ?? names[0];
      own = [{ field, message: error.value === undefined && first !== 'whitelistValidation' ? `${field} is required` : constraints[first] }];
    }
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Bodies must be JSON objects; class-validator then checks them with `whitelist` and `forbidNonWhitelisted`. */
@Injectable()
export class BodyValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: false,
    // The value is read to tell a missing field from a wrong one; it never goes into the answer.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => ProblemException.validation(flatten(errors)),
  });

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body') return value;
    if (value === undefined || value === null) value = {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw ProblemException.validation([{ field: '(body)', message: 'the body must be a JSON object' }]);
    return this.inner.transform(value, metadata);
  }
}
