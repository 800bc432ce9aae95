/** The admin feature's public surface (composed with other features in src/app). */
export { CreateShowForm } from './components/CreateShowForm';
export { AdminShowList } from './components/AdminShowList';
