package source

import (
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"

	// The parser needs a driver for literal values; this one only holds them.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// tableName is a table as db and name. A statement on a whole database,
// such as CREATE DATABASE, names it with an empty name.
type tableName struct {
	db, name string
}

// statementTables returns every table a SQL statement names, written to or
// read, with unqualified names taken to be in defaultDB. It parses with
// TiDB's MySQL parser and fails on SQL that parser does not accept.
func statementTables(query, defaultDB string) ([]tableName, error) {
	stmt, err := parseStatement(query)
	if err != nil {
		return nil, err
	}
	return tablesOf(stmt, defaultDB), nil
}

// parseStatement parses one SQL statement with TiDB's MySQL parser.
func parseStatement(query string) (ast.StmtNode, error) {
	return parser.New().ParseOneStmt(query, "", "")
}

// tablesOf returns every table a parsed statement names, as
// statementTables does.
func tablesOf(stmt ast.StmtNode, defaultDB string) []tableName {
	collector := &tableCollector{defaultDB: defaultDB}
	stmt.Accept(collector)
	return collector.tables
}

type tableCollector struct {
	defaultDB string
	tables    []tableName
}

func (c *tableCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch node := n.(type) {
	case *ast.TableName:
		db := node.Schema.O
		if db == "" {
			db = c.defaultDB
		}
		c.tables = append(c.tables, tableName{db: db, name: node.Name.O})
	case *ast.CreateDatabaseStmt:
		c.tables = append(c.tables, tableName{db: node.Name.O})
	case *ast.DropDatabaseStmt:
		c.tables = append(c.tables, tableName{db: node.Name.O})
	case *ast.AlterDatabaseStmt:
		c.tables = append(c.tables, tableName{db: node.Name.O})
	}
	return n, false
}

func (c *tableCollector) Leave(n ast.Node) (ast.Node, bool) {
	return n, true
}
