import { Link, isRouteErrorResponse, useRouteError } from 'react-router';

export function RouteError() {
  const error = useRouteError();
  const text = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Something went wrong.';
  return (
    <main className="page" id="main">
      <h1>Something went wrong</h1>
      <p className="error" role="alert">
        {text}
      </p>
      <p>
        <Link to="/">Back to the shows</Link>
      </p>
    </main>
  );
}
