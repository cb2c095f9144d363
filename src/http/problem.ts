import { HttpException } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem: `type` is a stable slug that clients switch on. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

// A property name is the client's text, and may be a megabyte long.
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A validation answer lists this many errors at most. */
export const MAX_LISTED_ERRORS = 20;

/** Thrown anywhere in the HTTP layer to answer with a problem document. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem, problem.status);
  }

  static of(status: number, type: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    return new ProblemException({ type, title: titleFor(status), status, detail, ...extra }, headers);
  }

  /**
   * 400 `validation-failed`. At most {@link MAX_LISTED_ERRORS} errors are listed (the first ones); when
   * there are more, `moreErrors` says how many were left out, so that the answer stays small whatever the body.
   */
  static validation(errors: FieldError[]): ProblemException {
    const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => ({ field: clip(e.field, 100), message: clip(e.message, 300) }));
    const more = errors.length - listed.length;
    const fields = [...new Set(listed.map((e) => e.field))].join(', ');
    return ProblemException.of(400, 'validation-failed', `Invalid ${fields}${more > 0 ? ` (and ${more} more errors)` : ''}`, {
      errors: listed,
      ...(more > 0 ? { moreErrors: more } : {}),
    });
  }
}
