import { Injectable, PipeTransform } from '@nestjs/common';
import { UUID_PATTERN } from '../newsroom/ids';
import { ProblemException } from './problem';

/** Path ids are UUIDs, lower-cased; anything else names nothing that can exist: 404. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  constructor(private readonly kind: 'article' | 'source' | 'quote' | 'claim' | 'webhook') {}

  transform(value: string): string {
    // Not echoed: it is the client's text, not an id.
    if (!UUID_PATTERN.test(value)) throw ProblemException.of(404, `${this.kind}-not-found`, `No ${this.kind} has that id (ids are UUIDs).`);
    return value.toLowerCase();
  }
}
