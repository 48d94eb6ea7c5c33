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
set(muir_opt ${BUILD_DIR}/bin/muir-opt)
execute_process(COMMAND ${muir_opt} --list-passes
  OUTPUT_VARIABLE listed RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${muir_opt} --list-passes failed (${rc})")
endif()
string(REGEX MATCHALL "\n  --(tp|convert-tp)-[a-z0-9-]+" passes "${listed}")
file(GLOB pass_docs ${BUILD_DIR}/docs/TP/*Passes.md)
set(reference "")
foreach(doc IN LISTS pass_docs)
  file(READ ${doc} text)
  string(APPEND reference "${text}")
endforeach()
set(undocumented "")
set(count 0)
foreach(entry IN LISTS passes)
  string(REGEX REPLACE "^\n  --" "" pass "${entry}")
  math(EXPR count "${count} + 1")
  string(REGEX MATCH "### `-${pass}`\n\n_[^\n]+_\n" section "${reference}")
  if(NOT section)
    list(APPEND undocumented ${pass})
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "muir-opt --list-passes lists no tp pass")
endif()
if(undocumented)
  list(JOIN undocumented ", " undocumented)
  message(FATAL_ERROR "passes without a section and summary in "
    "${BUILD_DIR}/docs/TP/*Passes.md: ${undocumented}")
endif()
message(STATUS "ok: ${count} passes documented, each with a summary")

execute_process(COMMAND ${muir_opt} --help
  OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${muir_opt} --help failed (${rc})")
endif()
string(FIND "${help}" "Pass Pipelines:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "muir-opt --help lists no pass pipelines")
endif()
string(SUBSTRING "${help}" ${at} -1 help)
string(REGEX MATCHALL "\n      --tp-[a-z0-9-]+" pipelines "${help}")
file(GLOB pages ${SOURCE_DIR}/docs/*.md)
set(manual "")
foreach(page IN LISTS pages)
  file(READ ${page} text)
  string(APPEND manual "${text}")
endforeach()
set(undocumented "")
set(count 0)
foreach(entry IN LISTS pipelines)
  string(REGEX REPLACE "^\n      --" "" pipeline "${entry}")
  math(EXPR count "${count} + 1")
  string(FIND "${manual}" "`${pipeline}" quoted)
  string(FIND "${manual}" "--${pipeline}" flag)
  string(FIND "${manual}" "\n## ${pipeline}" heading)
  if(quoted EQUAL -1 AND flag EQUAL -1 AND heading EQUAL -1)
    list(APPEND undocumented ${pipeline})
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "muir-opt --help lists no tp pass pipeline")
endif()
if(undocumented)
  list(JOIN undocumented ", " undocumented)
  message(FATAL_ERROR "pass pipelines described on no page of docs/: "
    "${undocumented}")
endif()
message(STATUS "ok: ${count} pass pipelines described in docs/")
