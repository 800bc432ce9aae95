import { createBrowserRouter } from 'react-router';
import { RouteError } from '../components/RouteError';
import { Layout } from './Layout';
import { AdminPage } from './routes/AdminPage';
import { MePage } from './routes/MePage';
import { NotFoundPage } from './routes/NotFoundPage';
import { OrderPage } from './routes/OrderPage';
import { ScanPage } from './routes/ScanPage';
import { ShowPage } from './routes/ShowPage';
import { ShowsPage } from './routes/ShowsPage';
import { SignInPage } from './routes/SignInPage';

/**
 * Pages of the test build only, not shipped in production: a measuring page for the seat map's cost at
 * 100,000 seats (docs/WEB.md), in its own chunk. Vite replaces import.meta.env.MODE as it reads the module,
 * so in the production build (`vite build`, mode `production`) the branch below is dead before the module graph
 * is built: neither the route nor the page's chunk is in web/dist. The test build (`vite build --mode e2e`,
 * web/dist-e2e), the dev server and Vitest have it.
 */
const testRoutes = [
  {
    path: 'dev/seat-map-perf',
    lazy: () => import('./routes/SeatMapPerfPage').then((m) => ({ Component: m.SeatMapPerfPage })),
  },
];

/** Every page is a URL that survives a reload (NGINX falls back to index.html). */
export const routes = [
  {
    path: '/',
    Component: Layout,
    errorElement: <RouteError />,
    children: [
      { index: true, Component: ShowsPage },
      { path: 'shows/:showId', Component: ShowPage },
      { path: 'me', Component: MePage },
      { path: 'me/bookings/:bookingId', Component: OrderPage },
      { path: 'scan', Component: ScanPage },
      { path: 'admin', Component: AdminPage },
      { path: 'signin', Component: SignInPage },
      ...(import.meta.env.MODE !== 'production' ? testRoutes : []),
      { path: '*', Component: NotFoundPage },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
