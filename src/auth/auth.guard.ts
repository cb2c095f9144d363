import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemResponses } from '../http/openapi/operations';
import { ProblemException } from '../http/problem';
import { Actor, Role } from '../newsroom/actor';
import { InvalidTokenError } from './jwt';
import { TokenVerifier } from './oidc';

const PUBLIC = 'copydesk:public';
const ROLES = 'copydesk:roles';

/** The route needs no token (`GET /health`, `GET /docs`). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Any one of these roles may call the route; the OpenAPI document's 403 names them. */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(ROLES, roles), ProblemResponses([['forbidden', `the token has none of the roles ${roles.join(', ')}`]]));

export type AuthenticatedRequest = FastifyRequest & { actor?: Actor };

/** The caller, as the verified token says; never anything from the body. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor on a public route');
  return actor;
});

/** Bearer JWT (HS256, or an OpenID Connect provider's) on every route not marked {@link Public}: 401 without a valid token, 403 without a role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw ProblemException.of(401, 'unauthorized', 'Send Authorization: Bearer <token>.');
    try {
      request.actor = await this.verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw ProblemException.of(401, 'unauthorized', `Invalid token: ${error.message}.`);
      throw error;
    }
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (allowed && !allowed.some((role) => request.actor!.roles.includes(role)))
      throw ProblemException.of(403, 'forbidden', `This needs one of the roles: ${allowed.join(', ')}.`);
    return true;
  }
}
