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
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

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

  static validation(errors: FieldError[]): ProblemException {
    const fields = [...new Set(errors.map((e) => e.field))].join(', ');
    return ProblemException.of(400, 'validation-failed', `Invalid ${fields}`, { errors });
  }
}
