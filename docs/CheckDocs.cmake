# Builds the `mlir-doc` target and checks what it generated: ctest runs this
# as the `mlir-doc` test (see docs/CMakeLists.txt), so a TableGen record that
# breaks the doc generator, an op without a summary, a pass without a section
# in the generated pass reference or a pass pipeline no page describes fails
# the suite.
#
#   cmake -DBUILD_DIR=<build> -DSOURCE_DIR=<source> -P docs/CheckDocs.cmake

if(NOT BUILD_DIR OR NOT SOURCE_DIR)
  message(FATAL_ERROR
    "usage: cmake -DBUILD_DIR=<build> -DSOURCE_DIR=<source> -P CheckDocs.cmake")
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target mlir-doc
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building mlir-doc failed (${rc})")
endif()

# file -> a string it must contain
set(expected
  "TP/TPDialect.md|# 'tp' Dialect"
  "TP/TPPasses.md|-tp-print-params"
  "TP/TPInterfaces.md|ParamUseOpInterface"
  "TP/TPEnums.md|ReportFormat")
foreach(entry IN LISTS expected)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 file)
  list(GET parts 1 needle)
  set(path ${BUILD_DIR}/docs/${file})
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "mlir-doc did not generate ${path}")
  endif()
  file(READ ${path} text)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${path} does not contain \"${needle}\"")
  endif()
  message(STATUS "ok: ${path}")
endforeach()

# Every op section opens with its one-line summary in italics:
#   ### `tp.linear` (tp::LinearOp)
#   <blank>
#   _Affine map y = x W^T + b over the last dimension_
file(STRINGS ${BUILD_DIR}/docs/TP/TPDialect.md lines)
set(op "")
set(missing "")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^### `(tp\\.[a-z_.]+)`")
    if(op)
      list(APPEND missing ${op})
    endif()
    set(op ${CMAKE_MATCH_1})
    math(EXPR count "${count} + 1")
  elseif(op AND line MATCHES "^_.+_$")
    set(op "")
  elseif(op AND NOT line STREQUAL "")
    list(APPEND missing ${op})
    set(op "")
  endif()
endforeach()
if(op)
  list(APPEND missing ${op})
endif()
if(count EQUAL 0)
  message(FATAL_ERROR "no op sections in TPDialect.md")
endif()
if(missing)
  list(JOIN missing ", " missing)
  message(FATAL_ERROR "ops without a summary in TPDialect.md: ${missing}")
endif()
message(STATUS "ok: ${count} ops documented, each with a summary")

# Every pass muir-opt registers as muir's (tp-*, convert-tp-*, the test-only
# ones included) has a section in the generated pass references
# (build/docs/TP/*Passes.md) that opens with its summary, and every muir pass
# pipeline (muir-opt --help's "Pass Pipelines", tp-*) is described on a page
# of docs/: a section of its own (`## name`) or named as `name` or --name.

# The output of muir-opt with `flag`.
function(muir_opt out flag)
  execute_process(COMMAND ${BUILD_DIR}/bin/muir-opt ${flag}
    OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "muir-opt ${flag} failed (${rc})")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The text of every file matching `pattern`, one after the other.
function(read_all out pattern)
  file(GLOB paths ${pattern})
  set(all "")
  foreach(path IN LISTS paths)
    file(READ ${path} text)
    string(APPEND all "${text}")
  endforeach()
  set(${out} "${all}" PARENT_SCOPE)
endfunction()

# Fails when muir-opt listed no `what` (`names` is empty) or when some have
# no documentation (`missing`, named in the error).
function(require_documented what names missing)
  list(LENGTH names count)
  if(count EQUAL 0)
    message(FATAL_ERROR "muir-opt lists no ${what}")
  endif()
  if(missing)
    list(JOIN missing ", " missing)
    message(FATAL_ERROR "${what} not documented: ${missing}")
  endif()
  message(STATUS "ok: ${count} ${what}, each documented")
endfunction()

muir_opt(listed --list-passes)
string(REGEX MATCHALL "\n  --(tp|convert-tp)-[a-z0-9-]+" entries "${listed}")
string(REGEX REPLACE "\n  --" "" passes "${entries}")
read_all(reference ${BUILD_DIR}/docs/TP/*Passes.md)
set(missing "")
foreach(pass IN LISTS passes)
  string(REGEX MATCH "### `-${pass}`\n\n_[^\n]+_\n" section "${reference}")
  if(NOT section)
    list(APPEND missing ${pass})
  endif()
endforeach()
require_documented("passes (a section with the summary in build/docs/TP/*Passes.md)"
  "${passes}" "${missing}")

muir_opt(help --help)
string(FIND "${help}" "Pass Pipelines:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "muir-opt --help lists no pass pipelines")
endif()
string(SUBSTRING "${help}" ${at} -1 help)
string(REGEX MATCHALL "\n      --tp-[a-z0-9-]+" entries "${help}")
string(REGEX REPLACE "\n      --" "" pipelines "${entries}")
read_all(manual ${SOURCE_DIR}/docs/*.md)
set(missing "")
foreach(pipeline IN LISTS pipelines)
  string(FIND "${manual}" "`${pipeline}" quoted)
  string(FIND "${manual}" "--${pipeline}" flag)
  string(FIND "${manual}" "\n## ${pipeline}" heading)
  if(quoted EQUAL -1 AND flag EQUAL -1 AND heading EQUAL -1)
    list(APPEND missing ${pipeline})
  endif()
endforeach()
require_documented("pass pipelines (described on a page of docs/)"
  "${pipelines}" "${missing}")
