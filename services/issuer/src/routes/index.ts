// Every issuer route module, in registration order. createIssuer mounts them all.
import type { RouteModule } from '@provenant/server-kit';
import { logRoutes } from '../log/routes.js';
import type { IssuerDeps } from '../deps.js';
import { chainRoutes } from './chains.js';
import { custodialRoutes } from './custodial.js';
import { epcisRoutes } from './epcis.js';
import { epcisQueryRoutes } from './epcis-query.js';
import { recordRoutes } from './records.js';
import { witnessRoutes } from './witnesses.js';
import { registryRoutes } from './registry.js';
import { webhookRoutes } from '../webhooks/routes.js';

export const ISSUER_ROUTES: RouteModule<IssuerDeps>[] = [
  logRoutes as RouteModule<IssuerDeps>,
  registryRoutes,
  recordRoutes,
  chainRoutes,
  custodialRoutes,
  witnessRoutes,
  epcisRoutes,
  epcisQueryRoutes,
  webhookRoutes,
];
