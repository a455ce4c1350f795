package web

import (
	"sort"
	"strings"

	"github.com/smartlic/smartlic"
)

// TreeNode is one Virtual Account in the tree beside the inventory pages.
// Reachable VAs are links; a VA the caller has no role in shows only as
// the parent of one it has, so the tree keeps its shape.
type TreeNode struct {
	VA        smartlic.VirtualAccount
	Children  []*TreeNode
	Reachable bool
	Link      string // set by linkTree on inventory pages
	Current   bool
	Open      bool // on the path to the current VA
}

// buildTree arranges vas by parent, names in order, keeping the reachable
// ones and their ancestors.
func buildTree(vas []smartlic.VirtualAccount, reachable map[string]bool) []*TreeNode {
	nodes := map[string]*TreeNode{}
	for _, v := range vas {
		nodes[v.ID] = &TreeNode{VA: v, Reachable: reachable[v.ID]}
	}
	var roots []*TreeNode
	for _, v := range vas {
		n := nodes[v.ID]
		if p, ok := nodes[v.ParentID]; ok {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return prune(sortTree(roots))
}

func sortTree(ns []*TreeNode) []*TreeNode {
	sort.Slice(ns, func(i, j int) bool {
		// DEFAULT first, then by name: the order people look for.
		if (ns[i].VA.Name == smartlic.DefaultVAName) != (ns[j].VA.Name == smartlic.DefaultVAName) {
			return ns[i].VA.Name == smartlic.DefaultVAName
		}
		return strings.ToLower(ns[i].VA.Name) < strings.ToLower(ns[j].VA.Name)
	})
	for _, n := range ns {
		sortTree(n.Children)
	}
	return ns
}

// prune drops the subtrees with nothing reachable in them.
func prune(ns []*TreeNode) []*TreeNode {
	var out []*TreeNode
	for _, n := range ns {
		n.Children = prune(n.Children)
		if n.Reachable || len(n.Children) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// linkTree points every reachable node at the same tab of its VA, and
// opens the path to the current one.
func linkTree(ns []*TreeNode, sa, currentID, tab, query string) bool {
	open := false
	for _, n := range ns {
		if n.Reachable {
			n.Link = vaPath(sa, n.VA.Name) + "/" + tab + query
		}
		n.Current = n.VA.ID == currentID
		n.Open = linkTree(n.Children, sa, currentID, tab, query) || n.Current
		open = open || n.Open
	}
	return open
}

// pathTo returns the nodes from a root down to the VA with id.
func pathTo(ns []*TreeNode, id string) []*TreeNode {
	for _, n := range ns {
		if n.VA.ID == id {
			return []*TreeNode{n}
		}
		if p := pathTo(n.Children, id); p != nil {
			return append([]*TreeNode{n}, p...)
		}
	}
	return nil
}

// firstReachable is the name of the first VA the caller works in, in tree
// order: where "Inventory" leads.
func firstReachable(ns []*TreeNode) string {
	for _, n := range ns {
		if n.Reachable {
			return n.VA.Name
		}
		if name := firstReachable(n.Children); name != "" {
			return name
		}
	}
	return ""
}
