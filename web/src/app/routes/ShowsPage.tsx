import { usePageTitle } from '../../components/PageTitle';
import { ShowList } from '../../features/shows';

export function ShowsPage() {
  usePageTitle('Shows');
  return (
    <>
      <h1>Shows</h1>
      <ShowList />
    </>
  );
}
