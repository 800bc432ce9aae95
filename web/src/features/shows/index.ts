/** The shows feature's public surface (composed with other features in src/app). */
export { ShowList } from './components/ShowList';
export { ShowHeader } from './components/ShowHeader';
export { useShow } from './hooks/useShows';
export { showsKey } from './api/shows';
