// The admin app: the sign-in screen until a staff session exists, then the pages.
import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, Route, Routes, useLocation } from "react-router-dom";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { isUnauthenticated, signOut } from "../shared/api";
import { SignIn, StaffSignInHelp } from "../shared/SignIn";
import { ErrorState, Loading } from "../shared/states";
import { AlertsPage, OpenAlertCount } from "./AlertsPage";
import { ClientPage } from "./ClientPage";
import { EditClientPage, NewClientPage } from "./ClientForm";
import { InvoicePage, InvoicesPage } from "./InvoicesPage";
import { ModelsPage } from "./ModelsPage";
import { OverviewPage } from "./OverviewPage";
import { ReconciliationPage } from "./ReconciliationPage";
import { SessionContext, isOwner, type Session } from "./session";
import { SettingsPage } from "./SettingsPage";
import { StaffPage } from "./StaffPage";
import { WebhooksPage } from "./WebhooksPage";

const SessionQuery = graphql(`
  query AdminSession {
    me {
      kind
      name
      role
    }
    timeZone
  }
`);

export function AdminApp() {
  const [{ data, fetching, error }, reload] = useQuery({ query: SessionQuery, requestPolicy: "network-only" });
  const signedIn = () => reload({ requestPolicy: "network-only" });
  if (fetching && !data) return <Loading what="Bizgraph" />;
  if (isUnauthenticated(error)) {
    return <SignIn app="admin" title="Sign in to Bizgraph" help={<StaffSignInHelp />} onSignedIn={signedIn} />;
  }
  if (error || !data) return <ErrorState error={error!} retry={() => reload()} />;
  if (data.me.kind !== "STAFF" || !data.me.role) {
    // A portal session (from /portal) does not open the admin app.
    return <SignIn app="admin" title="Sign in to Bizgraph" help={<StaffSignInHelp />} onSignedIn={signedIn} />;
  }
  const session: Session = {
    name: data.me.name,
    role: data.me.role,
    timeZone: data.timeZone,
    signOut: () => void signOut().then(() => window.location.assign("/")),
  };
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
}

function Shell({ session }: { session: Session }) {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const nav = [
    { to: "/", label: "Overview", active: location.pathname === "/" || location.pathname.startsWith("/clients") },
    { to: "/alerts", label: "Alerts", active: location.pathname.startsWith("/alerts"), count: <OpenAlertCount /> },
    { to: "/invoices", label: "Invoices", active: location.pathname.startsWith("/invoices") },
    { to: "/reconciliation", label: "Reconciliation", active: location.pathname.startsWith("/reconciliation") },
    { to: "/webhooks", label: "Webhooks", active: location.pathname.startsWith("/webhooks") },
    { to: "/models", label: "Model catalog", active: location.pathname.startsWith("/models") },
    { to: "/settings", label: "Settings", active: location.pathname.startsWith("/settings") },
    ...(isOwner(session)
      ? [{ to: "/staff", label: "Staff and tokens", active: location.pathname.startsWith("/staff") }]
      : []),
  ];
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "md", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Menu" />
            <Title order={3}>Bizgraph</Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="xs" data-testid="signed-in-as">
              {session.name}
            </Text>
            <Badge variant="light" color={session.role === "VIEWER" ? "gray" : "indigo"}>
              {session.role.toLowerCase()}
            </Badge>
            <Button variant="default" size="xs" onClick={session.signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {nav.map((item) => (
          <NavLink key={item.to} component={Link} to={item.to} label={item.label} active={item.active} onClick={close}
            rightSection={"count" in item ? item.count : undefined} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/clients/new" element={<NewClientPage />} />
          <Route path="/clients/:id" element={<ClientPage />} />
          <Route path="/clients/:id/edit" element={<EditClientPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/invoices" element={<InvoicesPage />} />
          <Route path="/invoices/:id" element={<InvoicePage />} />
          <Route path="/reconciliation" element={<ReconciliationPage />} />
          <Route path="/webhooks" element={<WebhooksPage />} />
          <Route path="/models" element={<ModelsPage />} />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="/staff" element={isOwner(session) ? <StaffPage /> : <NotFound />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}

function NotFound() {
  return (
    <Text>
      There is no such page. Go back to the <Link to="/">overview</Link>.
    </Text>
  );
}
