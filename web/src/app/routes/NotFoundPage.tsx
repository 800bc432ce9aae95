import { Link } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the shows</Link>
      </p>
    </>
  );
}
