/**
 * @synod/dashboard — the live web view of a running cluster: `startDashboard({ source })`
 * serves the page and streams what a {@link DashboardSource} reports.
 */
export { startDashboard, type Dashboard, type DashboardOptions } from './server.js';
export type { DashboardSource, SourceListener } from './source.js';
export type * from './page/protocol.js';
