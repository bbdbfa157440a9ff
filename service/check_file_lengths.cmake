# Fails when a source file in DIR passes LIMIT lines: service/ grows with every route and
# limit, and a file that keeps growing is one doing several jobs that want files of their own.
# Usage: cmake -DDIR=<folder> -DLIMIT=<lines> -P check_file_lengths.cmake
file(GLOB files "${DIR}/*.cc" "${DIR}/*.h")
set(failed "")
foreach(f IN LISTS files)
  file(READ "${f}" text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines n)
  if(n GREATER LIMIT)
    get_filename_component(name "${f}" NAME)
    string(APPEND failed "  ${name}: ${n} lines\n")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "files over ${LIMIT} lines:\n${failed}")
endif()
