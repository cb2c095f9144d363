import { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { Page } from '../pagination';

/** API.md's write answer. */
export class WriteAnswerDto {
  @ApiProperty({ format: 'uuid', description: 'The article or source written to.' })
  id!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: "The stream revision of the aggregate's last event (0-based); also sent as `ETag`." })
  revision!: number;
  @ApiProperty({ pattern: '^\\d+$', description: 'The global position of the last event written, a decimal string that only grows: send it as `X-Wait-For-Position` to read this write.' })
  position!: string;
}

export class QuoteWriteAnswerDto extends WriteAnswerDto {
  @ApiProperty({ format: 'uuid', description: 'The quote added.' })
  quoteId!: string;
}

export class ClaimWriteAnswerDto extends WriteAnswerDto {
  @ApiProperty({ format: 'uuid', description: 'The claim recorded.' })
  claimId!: string;
}

const pages = new Map<Type<unknown>, Type<Page<unknown>>>();

/** API.md's list shape for items of `item`, named `<Item>Page` in the document. */
export function PageOf<T>(item: Type<T>): Type<Page<T>> {
  let page = pages.get(item);
  if (!page) {
    class ItemPage implements Page<T> {
      @ApiProperty({ type: [item] })
      items!: T[];
      @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one.' })
      nextCursor!: string | null;
    }
    Object.defineProperty(ItemPage, 'name', { value: `${item.name.replace(/Dto$/, '')}Page` });
    pages.set(item, (page = ItemPage));
  }
  return page as Type<Page<T>>;
}
