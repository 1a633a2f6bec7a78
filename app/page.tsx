import LandingPage from './_components/LandingPage';

export default function Home() {
  return <LandingPage />;
}
