/** The door: a scanner page's form and the check-in answers (POST /v1/checkins). */
export { Scanner } from './components/Scanner';
