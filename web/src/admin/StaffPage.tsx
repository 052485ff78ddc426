// Staff tokens (owners only): who may use the admin app, with which role.
import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { Role } from "../gql/graphql";
import { formatDateTime } from "../shared/format";
import { SecretOnce } from "../shared/SecretOnce";
import { ErrorState, Loading, MutationError } from "../shared/states";
import { useSession } from "./session";

const StaffQuery = graphql(`
  query StaffPage {
    staffTokens { id name email role prefix createdAt revokedAt }
  }
`);

const CreateStaffToken = graphql(`
  mutation CreateStaffToken($input: CreateStaffTokenInput!) {
    createStaffToken(input: $input) {
      __typename
      ... on CreateStaffTokenSuccess { secret staffToken { id } }
      ... on ValidationError { message }
    }
  }
`);

const RevokeStaffToken = graphql(`
  mutation RevokeStaffToken($id: ID!) {
    revokeStaffToken(id: $id) {
      __typename
      ... on RevokeStaffTokenSuccess { staffToken { id revokedAt } }
      ... on NotFoundError { message }
    }
  }
`);

const ROLES = [
  { value: "VIEWER", label: "viewer (read-only)" },
  { value: "ADMIN", label: "admin (clients, keys, prices)" },
  { value: "OWNER", label: "owner (everything, staff too)" },
];

export function StaffPage() {
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: StaffQuery });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("VIEWER");
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [createState, create] = useMutation(CreateStaffToken);
  const [, revoke] = useMutation(RevokeStaffToken);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await create({ input: { name: name.trim(), role, email: email.trim() || null } });
    const answer = result.data?.createStaffToken;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "CreateStaffTokenSuccess") {
      setSecret(answer.secret);
      setName("");
      setEmail("");
      refresh();
    } else if (answer) setProblem(answer.message);
  }

  async function revokeToken(id: string, prefix: string) {
    if (!window.confirm(`Revoke ${prefix}…? Its holder is signed out on their next request.`)) return;
    const result = await revoke({ id });
    const answer = result.data?.revokeStaffToken;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RevokeStaffTokenSuccess") setProblem(answer.message);
    else refresh();
  }

  return (
    <Stack>
      <Title order={2}>Staff and tokens</Title>
      <Text size="sm" c="dimmed">
        Each person holds one token per device; revoking one ends that session on its next request.
      </Text>
      {fetching && !data && <Loading what="staff tokens" />}
      {error && !data && <ErrorState error={error} retry={refresh} />}
      {data && (
        <Table.ScrollContainer minWidth={640}>
          <Table data-testid="staff">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Token</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.staffTokens.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>
                    {t.name}
                    {t.email && <Text size="xs" c="dimmed">{t.email}</Text>}
                  </Table.Td>
                  <Table.Td>{t.role.toLowerCase()}</Table.Td>
                  <Table.Td ff="monospace">{t.prefix}…</Table.Td>
                  <Table.Td>{formatDateTime(t.createdAt, session.timeZone)}</Table.Td>
                  <Table.Td>{t.revokedAt ? <Badge color="gray">revoked</Badge> : <Badge color="green">active</Badge>}</Table.Td>
                  <Table.Td>
                    {!t.revokedAt && (
                      <Button size="xs" variant="subtle" color="red" onClick={() => revokeToken(t.id, t.prefix)}>
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Paper withBorder p="lg" maw={640}>
        <form onSubmit={submit}>
          <Stack>
            <Title order={4}>New staff token</Title>
            <Group grow>
              <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
              <TextInput label="Email (optional)" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            </Group>
            <Select label="Role" data={ROLES} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} />
            <MutationError message={problem} />
            <Button type="submit" loading={createState.fetching} w="fit-content">
              Create token
            </Button>
          </Stack>
        </form>
      </Paper>
      <SecretOnce title="New staff token" secret={secret} onClose={() => setSecret(null)}
        usage="Its holder signs in with it at this server's address." />
    </Stack>
  );
}
