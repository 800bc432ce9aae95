import { createBrowserRouter } from 'react-router';
import { RouteError } from '../components/RouteError';
import { Layout } from './Layout';
import { AdminPage } from './routes/AdminPage';
import { MePage } from './routes/MePage';
import { NotFoundPage } from './routes/NotFoundPage';
import { ShowPage } from './routes/ShowPage';
import { ShowsPage } from './routes/ShowsPage';
import { SignInPage } from './routes/SignInPage';

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
      { path: 'admin', Component: AdminPage },
      { path: 'signin', Component: SignInPage },
      {
        // a measuring page for the seat map's cost at 100,000 seats (docs/WEB.md); its own chunk
        path: 'dev/seat-map-perf',
        lazy: () => import('./routes/SeatMapPerfPage').then((m) => ({ Component: m.SeatMapPerfPage })),
      },
      { path: '*', Component: NotFoundPage },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
