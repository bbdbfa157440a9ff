# Runs `npm ci` in WEB_DIR unless node_modules already matches package-lock.json, then
# touches STAMP. Several build trees share web/node_modules, so the install is locked.
file(LOCK "${WEB_DIR}/.npm-ci.lock" GUARD PROCESS TIMEOUT 900)
set(marker "${WEB_DIR}/node_modules/.package-lock.json")
set(fresh FALSE)
if(EXISTS "${marker}" AND NOT "${WEB_DIR}/package-lock.json" IS_NEWER_THAN "${marker}")
  set(fresh TRUE)
endif()
if(NOT fresh)
  message(STATUS "web: npm ci")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web: npm ci failed (${rc})")
  endif()
endif()
file(TOUCH "${STAMP}")
