/** The auth feature's public surface (composed with other features in src/app). */
export { SignInForm } from './components/SignInForm';
export { UserBadge } from './components/UserBadge';
export { useSession } from './hooks/useSession';
