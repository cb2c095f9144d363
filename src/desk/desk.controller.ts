import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { deskPage } from './desk';

/**
 * The desk's pages: one HTML document for every view, without a token (the page asks for one and
 * calls the API with it). Its policy is `DESK_CSP`, set for every /desk answer in desk.ts.
 */
@ApiExcludeController()
@Controller('desk')
export class DeskController {
  @Get(['', 'articles/:id', 'articles/:id/history', 'articles/:id/revisions/:revision', 'articles/:id/diff', 'admin'])
  @Public()
  page(@Res() reply: FastifyReply) {
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(deskPage());
  }
}
