/** Every `synod` subcommand, in the order `synod help` lists them. */
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { certsCommand } from './certs.js';
import { checkCommand } from './check.js';
import { dashboardCommand } from './dashboard.js';
import { demoCommand } from './demo.js';
import { nodeCommand } from './node.js';
import { simCommand } from './sim.js';

export const commands: readonly Command[] = [demoCommand, simCommand, benchCommand, checkCommand, dashboardCommand, nodeCommand, certsCommand];
