/** The waiting-list feature's public surface (composed with other features in src/app). */
export { WaitlistPanel } from './components/WaitlistPanel';
