package source

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	"github.com/sluice-cdc/sluice/schema"
)

// applyAlter returns the description of a table after an ALTER TABLE
// statement, computed from its description before, so that the schema
// history stays right even when information_schema has moved on. It
// returns false for any statement or clause it does not model, and the
// caller then describes the table from information_schema.
func applyAlter(stmt ast.StmtNode, before *schema.Described) (*schema.Described, bool) {
	alter, ok := stmt.(*ast.AlterTableStmt)
	if !ok || before == nil || before.Charset == "" {
		return nil, false
	}
	after := cloneDescribed(before)
	for _, spec := range alter.Specs {
		if !applySpec(after, spec) {
			return nil, false
		}
	}
	return after, true
}

func cloneDescribed(d *schema.Described) *schema.Described {
	out := &schema.Described{Charset: d.Charset}
	out.Columns = append(out.Columns, d.Columns...)
	out.PrimaryKey = append(out.PrimaryKey, d.PrimaryKey...)
	return out
}

func applySpec(d *schema.Described, spec *ast.AlterTableSpec) bool {
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		if len(spec.NewColumns) != 1 {
			return false // ADD COLUMN (a, b) lists are rare; describe instead
		}
		column, ok := describeColumn(spec.NewColumns[0], d.Charset)
		return ok && insertColumn(d, column, spec.Position)
	case ast.AlterTableDropColumn:
		index := columnIndex(d, spec.OldColumnName.Name.O)
		if index < 0 {
			return false
		}
		d.Columns = append(d.Columns[:index], d.Columns[index+1:]...)
		return true
	case ast.AlterTableChangeColumn, ast.AlterTableModifyColumn:
		old := spec.NewColumns[0].Name.Name.O
		if spec.Tp == ast.AlterTableChangeColumn {
			old = spec.OldColumnName.Name.O
		}
		index := columnIndex(d, old)
		column, ok := describeColumn(spec.NewColumns[0], d.Charset)
		if index < 0 || !ok {
			return false
		}
		d.Columns = append(d.Columns[:index], d.Columns[index+1:]...)
		if spec.Position == nil || spec.Position.Tp == ast.ColumnPositionNone {
			d.Columns = append(d.Columns[:index], append([]schema.DescribedColumn{column}, d.Columns[index:]...)...)
		} else if !insertColumn(d, column, spec.Position) {
			return false
		}
		renameKeyColumn(d, old, column.Name)
		return true
	case ast.AlterTableRenameColumn:
		index := columnIndex(d, spec.OldColumnName.Name.O)
		if index < 0 {
			return false
		}
		d.Columns[index].Name = spec.NewColumnName.Name.O
		renameKeyColumn(d, spec.OldColumnName.Name.O, spec.NewColumnName.Name.O)
		return true
	case ast.AlterTableDropPrimaryKey:
		d.PrimaryKey = nil
		return true
	case ast.AlterTableAddConstraint:
		if spec.Constraint.Tp != ast.ConstraintPrimaryKey {
			return true // other keys do not change the description
		}
		d.PrimaryKey = nil
		for _, part := range spec.Constraint.Keys {
			if part.Column == nil {
				return false
			}
			d.PrimaryKey = append(d.PrimaryKey, part.Column.Name.O)
		}
		return true
	case ast.AlterTableDropIndex, ast.AlterTableOption, ast.AlterTableAlterColumn,
		ast.AlterTableDropForeignKey, ast.AlterTableRenameIndex:
		return true // no change to columns or the primary key
	}
	return false
}

func columnIndex(d *schema.Described, name string) int {
	for i := range d.Columns {
		if strings.EqualFold(d.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

func renameKeyColumn(d *schema.Described, old, name string) {
	for i := range d.PrimaryKey {
		if strings.EqualFold(d.PrimaryKey[i], old) {
			d.PrimaryKey[i] = name
		}
	}
}

func insertColumn(d *schema.Described, column schema.DescribedColumn, position *ast.ColumnPosition) bool {
	at := len(d.Columns)
	if position != nil {
		switch position.Tp {
		case ast.ColumnPositionFirst:
			at = 0
		case ast.ColumnPositionAfter:
			index := columnIndex(d, position.RelativeColumn.Name.O)
			if index < 0 {
				return false
			}
			at = index + 1
		}
	}
	d.Columns = append(d.Columns[:at], append([]schema.DescribedColumn{column}, d.Columns[at:]...)...)
	return true
}

// describeColumn turns a column definition into a described column, with
// tableCharset for text columns that name no character set.
func describeColumn(def *ast.ColumnDef, tableCharset string) (schema.DescribedColumn, bool) {
	ft := def.Tp
	column := schema.DescribedColumn{Name: def.Name.Name.O, Unsigned: tidbmysql.HasUnsignedFlag(ft.GetFlag())}
	name, ok := dataTypeName(ft)
	if !ok {
		return column, false
	}
	column.DataType = name
	switch name {
	case "enum":
		column.EnumValues = ft.GetElems()
	case "set":
		column.SetValues = ft.GetElems()
	}
	if binaryDataTypes[name] {
		column.Charset = "binary"
	} else if isText(name) {
		column.Charset = ft.GetCharset()
		if column.Charset == "" {
			column.Charset = tableCharset
		}
	}
	return column, true
}

func isText(dataType string) bool {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

// dataTypeName returns information_schema's DATA_TYPE for a parsed type.
func dataTypeName(ft *types.FieldType) (string, bool) {
	binary := ft.GetCharset() == "binary"
	pick := func(text, bin string) string {
		if binary {
			return bin
		}
		return text
	}
	switch ft.GetType() {
	case tidbmysql.TypeTiny:
		return "tinyint", true
	case tidbmysql.TypeShort:
		return "smallint", true
	case tidbmysql.TypeInt24:
		return "mediumint", true
	case tidbmysql.TypeLong:
		return "int", true
	case tidbmysql.TypeLonglong:
		return "bigint", true
	case tidbmysql.TypeNewDecimal:
		return "decimal", true
	case tidbmysql.TypeFloat:
		return "float", true
	case tidbmysql.TypeDouble:
		return "double", true
	case tidbmysql.TypeBit:
		return "bit", true
	case tidbmysql.TypeYear:
		return "year", true
	case tidbmysql.TypeDate:
		return "date", true
	case tidbmysql.TypeDatetime:
		return "datetime", true
	case tidbmysql.TypeTimestamp:
		return "timestamp", true
	case tidbmysql.TypeDuration:
		return "time", true
	case tidbmysql.TypeString:
		return pick("char", "binary"), true
	case tidbmysql.TypeVarchar, tidbmysql.TypeVarString:
		return pick("varchar", "varbinary"), true
	case tidbmysql.TypeTinyBlob:
		return pick("tinytext", "tinyblob"), true
	case tidbmysql.TypeBlob:
		return pick("text", "blob"), true
	case tidbmysql.TypeMediumBlob:
		return pick("mediumtext", "mediumblob"), true
	case tidbmysql.TypeLongBlob:
		return pick("longtext", "longblob"), true
	case tidbmysql.TypeEnum:
		return "enum", true
	case tidbmysql.TypeSet:
		return "set", true
	case tidbmysql.TypeJSON:
		return "json", true
	}
	return "", false
}

// describeCreate returns the description of the table a CREATE TABLE
// statement makes. defaultCharset gives the character set of a database,
// for tables that name none. It returns false for CREATE TABLE ... LIKE
// and ... SELECT, whose columns the statement does not list.
func describeCreate(stmt *ast.CreateTableStmt, db string, defaultCharset func(db string) string) (*schema.Described, bool) {
	if stmt.ReferTable != nil || stmt.Select != nil || len(stmt.Cols) == 0 {
		return nil, false
	}
	d := &schema.Described{}
	for _, option := range stmt.Options {
		switch option.Tp {
		case ast.TableOptionCharset:
			d.Charset = option.StrValue
		case ast.TableOptionCollate:
			if d.Charset == "" {
				d.Charset, _, _ = strings.Cut(option.StrValue, "_")
			}
		}
	}
	if d.Charset == "" {
		d.Charset = defaultCharset(db)
	}
	if d.Charset == "" {
		return nil, false
	}
	for _, def := range stmt.Cols {
		column, ok := describeColumn(def, d.Charset)
		if !ok {
			return nil, false
		}
		d.Columns = append(d.Columns, column)
		for _, option := range def.Options {
			if option.Tp == ast.ColumnOptionPrimaryKey {
				d.PrimaryKey = []string{column.Name}
			}
		}
	}
	for _, constraint := range stmt.Constraints {
		if constraint.Tp != ast.ConstraintPrimaryKey {
			continue
		}
		d.PrimaryKey = nil
		for _, part := range constraint.Keys {
			if part.Column == nil {
				return nil, false
			}
			d.PrimaryKey = append(d.PrimaryKey, part.Column.Name.O)
		}
	}
	return d, true
}
