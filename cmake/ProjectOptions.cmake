# -Wnull-dereference is left out: GCC 12 reports false positives inside libstdc++ (streambuf, basic_string).
# Warnings and sanitizers come from INTERFACE targets that each of our targets links,
# so third-party code and global flags stay untouched.
add_library(sy_warnings INTERFACE)
add_library(sy::warnings ALIAS sy_warnings)
target_compile_options(sy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${SY_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(sy_sanitizers INTERFACE)
add_library(sy::sanitizers ALIAS sy_sanitizers)
if(SY_SANITIZE)
  target_compile_options(sy_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                  -fno-sanitize-recover=undefined)
  target_link_options(sy_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(sy_project_options INTERFACE)
add_library(sy::options ALIAS sy_project_options)
target_link_libraries(sy_project_options INTERFACE sy_warnings sy_sanitizers)

# One of the project's layered libraries: sy_<name> with the alias sy::<name>, includes rooted
# at the source tree (#include "engine/renderer.h"), our warnings and sanitizers, and the
# PUBLIC/PRIVATE dependencies given after the name.
function(sy_layer name)
  add_library(sy::${name} ALIAS sy_${name})
  target_include_directories(sy_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_link_libraries(sy_${name} ${ARGN})
  target_link_libraries(sy_${name} PRIVATE sy::options)
endfunction()
