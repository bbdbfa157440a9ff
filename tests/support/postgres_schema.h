#pragma once
// A schema of its own for a suite on the shared PostgreSQL fixture, so suites (and reruns)
// never see each other's jobs tables.
#include <libpq-fe.h>

#include <stdexcept>
#include <string>

namespace sy::testing {

// Drops `schema` with everything in it (a rerun finds the last run's tables), creates it
// empty, and returns the URL whose connections use it. Throws std::runtime_error when the
// server cannot be reached or refuses.
inline std::string url_with_fresh_schema(const std::string& server_url, const std::string& schema) {
  PGconn* c = PQconnectdb(server_url.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema + " CASCADE").c_str()));
    PGresult* r = PQexec(c, ("CREATE SCHEMA " + schema).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQerrorMessage(c);
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) throw std::runtime_error("PostgreSQL schema " + schema + ": " + error);
  return server_url + "?options=-csearch_path%3D" + schema;
}

}  // namespace sy::testing
