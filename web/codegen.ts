import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for every operation in src/ from the API's exported contract: a schema change that
// breaks a query breaks `npm run build`.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Decimal: "string", DateTime: "string", Date: "string" },
      },
    },
  },
};

export default config;
