import { NavLink, Outlet } from 'react-router';
import { UserBadge, useSession } from '../features/auth';

export function Layout() {
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <NavLink to="/" className="brand" end>
          boxoffice
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Shows
          </NavLink>
          <NavLink to="/me">My bookings</NavLink>
          {(session?.role === 'admin' || !session) && <NavLink to="/admin">Admin</NavLink>}
          {(session?.role === 'scanner' || session?.role === 'admin') && <NavLink to="/scan">Check-in</NavLink>}
        </nav>
        <UserBadge />
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
