// Who is signed in to the admin app, and what their role lets the screens offer.
import { createContext, useContext } from "react";

export interface Session {
  name: string;
  role: "OWNER" | "ADMIN" | "VIEWER";
  timeZone: string;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside the signed-in app");
  return session;
}

/** Owners and admins change things; viewers read everything, cost and profit included. */
export function canWrite(session: Session): boolean {
  return session.role === "OWNER" || session.role === "ADMIN";
}

export function isOwner(session: Session): boolean {
  return session.role === "OWNER";
}
