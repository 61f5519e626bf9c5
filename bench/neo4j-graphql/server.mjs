// The Neo4j GraphQL Library (@neo4j/graphql) on Apollo Server's standalone HTTP server.
// NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD choose the database; PORT the port.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

const typeDefs = readFileSync(new URL("./typeDefs.graphql", import.meta.url), "utf8");
const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? ""),
);
const neoSchema = new Neo4jGraphQL({ typeDefs, driver });
const server = new ApolloServer({ schema: await neoSchema.getSchema() });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4000), host: "127.0.0.1" },
  context: async () => ({ cypherQueryOptions: {} }),
});
console.log(`neo4j-graphql ready at ${url}`);
const stop = async () => { await server.stop(); await driver.close(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
