import "@mantine/core/styles.css";
import "@mantine/charts/styles.css";
import { MantineProvider } from "@mantine/core";
import { StrictMode, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "urql";
import { makeClient } from "../shared/api";
import { theme } from "../shared/theme";
import { PortalApp } from "./PortalApp";

function Root() {
  const client = useMemo(makeClient, []);
  return (
    <MantineProvider theme={theme}>
      <Provider value={client}>
        <PortalApp />
      </Provider>
    </MantineProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
